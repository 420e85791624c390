package dev.nps.cmaes;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.function.ToDoubleFunction;
import org.junit.jupiter.api.Test;

/**
 * Pins three seeded runs, generation by generation, to the pre-split implementation: CmaEs was split
 * into CmaParameters, CmaState and CovarianceMatrix as a pure refactor, so every snapshot byte must be
 * unchanged. The digests were recorded from the single-class implementation at commit
 * 4d18daade727c8a371065f5d654dd483e3ffff10 (main before the split); update them only when the algorithm
 * or the CmaesState format is changed on purpose (journals store that format).
 */
class CmaEsSplitDigestTest {
    static final int GENERATIONS = 60;

    @Test
    void sphere3() throws Exception {
        assertDigests(SPHERE_3, trajectory(CmaEsBenchmarkTest::sphere, 3, 0.7, 0.4, 101, false));
    }

    /** With box, one-sided and free coordinates, so the reflection into the bounds is under test too. */
    @Test
    void rosenbrock9Bounded() throws Exception {
        assertDigests(ROSENBROCK_9, trajectory(CmaEsBenchmarkTest::rosenbrock, 9, 0.1, 0.5, 202, true));
    }

    @Test
    void ellipsoid20() throws Exception {
        assertDigests(ELLIPSOID_20, trajectory(CmaEsBenchmarkTest::ellipsoid, 20, 1.0, 0.3, 303, false));
    }

    static void assertDigests(String[] expected, String[] actual) {
        assertEquals(expected.length, actual.length);
        for (int g = 0; g < GENERATIONS; g++) {
            assertEquals(expected[g], actual[g], "toProto() after generation " + (g + 1));
        }
        assertEquals(expected[GENERATIONS], actual[GENERATIONS], "toProto() with pending candidates");
        assertEquals(expected[GENERATIONS + 1], actual[GENERATIONS + 1], "accessors over all generations");
    }

    /**
     * Digests of toProto() after each of 60 tells, then (entry 60) after one more ask (pending state), then
     * (entry 61) one digest over every generation's derived accessors (mean, sigma, best, condition, stop).
     */
    static String[] trajectory(ToDoubleFunction<double[]> f, int n, double x0, double sigma0, long seed, boolean bounded)
            throws Exception {
        double[] start = new double[n];
        Arrays.fill(start, x0);
        CmaEsOptions options = CmaEsOptions.defaults(seed);
        if (bounded) {
            // A box on every other coordinate, tight enough that candidates are reflected and the mean folded.
            double[] lo = new double[n];
            double[] up = new double[n];
            Arrays.fill(lo, Double.NEGATIVE_INFINITY);
            Arrays.fill(up, Double.POSITIVE_INFINITY);
            for (int i = 0; i < n; i += 2) {
                lo[i] = -0.2;
                up[i] = 0.6;
            }
            lo[1] = 0.0; // one-sided
            options = options.withBounds(lo, up);
        }
        CmaEs es = new CmaEs(start, sigma0, options);
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        HexFormat hex = HexFormat.of();
        MessageDigest derived = MessageDigest.getInstance("SHA-256");
        String[] out = new String[GENERATIONS + 2];
        for (int g = 0; g < GENERATIONS; g++) {
            double[][] xs = es.ask().toArray(double[][]::new);
            double[] fit = new double[xs.length];
            for (int k = 0; k < xs.length; k++) {
                fit[k] = f.applyAsDouble(xs[k]);
            }
            es.tell(xs, fit);
            out[g] = hex.formatHex(sha.digest(es.toProto().toByteArray()));
            derived.update((Arrays.toString(es.mean()) + es.sigma() + Arrays.toString(es.bestSolution())
                    + es.bestFitness() + es.conditionNumber() + es.stop() + es.generation() + es.evaluations()
                    + es.dimension() + es.lambda() + es.mu()).getBytes(StandardCharsets.UTF_8));
        }
        es.ask();
        out[GENERATIONS] = hex.formatHex(sha.digest(es.toProto().toByteArray()));
        out[GENERATIONS + 1] = hex.formatHex(derived.digest());
        return out;
    }

    static final String[] SPHERE_3 = {
            "4a06b45cbc496db686056fb2a4106b362d44a8fa13421a1c4265dd097fb83f81",
            "07e4336d642655e13784dbe48b463d00cd7b75e28ac1b58a630070c0c41d9800",
            "e9ac69ce5ae6a66e930d3168761d604aff7cdffabfab6b4c8f4ecd92ac749684",
            "54a22f28f0450027429350bdd0d73a7be71900419800148cf2d0c94f8bb43208",
            "6b068c336804e072da625cdaa32229d33fc414fb3285796e2a4c574a48c9e4b4",
            "61389780e7b55991eaf529a676bf526be8a4460d58c380cbd6c78658be831032",
            "b0ced5b081723ae5bd0de7e75f5b554d53d310d0c4e9ebceb5154963849f34fb",
            "8fdc445b1e0bd3e4cb3117d88d10bd7229345bb19d837313ecf76efc4bdb3b96",
            "a4f229c0da3f7d651af328922290f4346dd2a359c19bcd33dc284c9c82dada03",
            "d5c97d44f779cc1edf31ad4b6c701abfb3c5f7a7785844f7b041ac3c818b4e16",
            "e50528c26e7661ae6874871d42e03a3a0811d4f9991a98a560111a91e49c4dc0",
            "767bb11ea05a5c551c1f2cfcd631ba83f7f18db7822ef05ee71da2280cfe480c",
            "090322a44fe7c5cff5bb8e4396eb661bf520a36de40ed36574f27ac4898af013",
            "fa4ff399a80236025f719f61f565ad1e9bb1fb260dc6dda81f550ee9dff71d5c",
            "06d69487941ed899cef1a0578508de730ed95311101c541f3007ca1a7f90c497",
            "c50f740c6f7f4dc7839220c02f9cb01eb78e091ed62f99acab6854aaf2bd3624",
            "91467da87582d68f4df2a5abc734a5c1978f4335b99fd56b2efdf1426c3b3c0c",
            "2fec8be03d918d4b2f7c1ed98bb2e0ec77de145b6ee0a33063b74e4a78f419c4",
            "e7d6fe3661a706b5bc05cad0a5e2b54ce84488a2462a1c50b220efc42f301db2",
            "59e7c97c09636e42331f538ae63ab980ca328218f1d05b147a165262de8dd63f",
            "2fc13bdf1f22b2beb94a8cb1532e4276730ad9b5a762aa9e7a434ccb62a18140",
            "e98c4e6a41e74fb8ad542a820d38e96f37e058d62c8e6ba618bc7cf5d6ab8883",
            "db68c6c8dae510a9d302a1e49d6b3ece5f3698f059ce0f0f85caf902851cb23c",
            "7b18001ffc72e7e72d6a81e17bc5089e2585254be3c868ac74754122167e738f",
            "40a22e6a93105c6dac0050d405006626d391fa5f47488e018c5221a780de0ab1",
            "112e29298a5cf5e82c9150a5b225c8ca94fb0dda85fc05a5dea871e0e80101b7",
            "4e06b0b62da13de9896b92b02189df549bf02cc9e01df945c8723ed1669da0da",
            "7f0ed39b8f43be50b804f376303cbf2d95dd830912a8129033feb4515843c212",
            "0f634130cc51e35a23364a873bc1eb2ec099a0b9e6a25bee47726764a25d8565",
            "5c7dc755cb263611c69b906494bbf396f43428e10672eb420c9e303c3478958b",
            "f02897c98a02ae885743ff3ed9d321a41b44431787de61e6623b8e0d52887b79",
            "5fe7c1c7b9c29e5daad0aa22dcc969e4278a72080f21899e2060e0747a284876",
            "4f573290274b16d7285af41741d9cc21158fcd5b1183bfb29105a99d74e5891c",
            "4e7f13451541da491980d34e10d9b6bc92aa828ae9f99cbf56faa157036b17a1",
            "b3e0a655158b4c6ff4c45e3dcacd183701fd35d904b5e8bd51dbaa2383b44a3a",
            "884fea70d2818089994938e0aa15fcdf83429132b730002fde314b9690a7f571",
            "cc55afe91eb0e4929be415e0bed0844dedf531aa42d40f4d12a924ea6972987b",
            "995af4429d613ca29e6526af0fae67cfb5457529b55f6ee08d398fc565412c8f",
            "f8b4a957e5c7e0bf36d0af3a3b6a71b2738c50246a5ac174acb7229b7748c63f",
            "b6d9c179c394cf857950609b0c61d82c1c69cde55ac1c10ab2d9eee436e317d1",
            "254c44e798a96e32e24b714693d1bed53922d71f6b5586656a4302c58ce035cf",
            "6ea8cceb7ec25b90c846ddc9108cfd4a83972b2b584210208a29eaf91d2357e1",
            "a129e028440ece6826833a1f99d9977b5e0a4b9e6e70512c7bb727419ebbf501",
            "5c320843d639d4d5da399966c2de68e398b19e6083c49944d8d23be674ef29b8",
            "8b084f6e1dc2ab0e7e046791a8444cec1834213db1de4d6986f78d20fb35acb8",
            "8dfb7b41f2b07c1d9ebfeb15afec89732f6cdd859c4038fa42eb44b7e9732849",
            "101b3e93d0024bc9fcc5376a9735e0299a1899583708c348bf72e91d708437a7",
            "26b2b3cd9a08d3bc521f7704a2eba80f4e499ef62e1ff7c3f643e0938bdc2321",
            "b7529527701dd241f52665268e3d4dab12eed8dfcf006f27546d044b52449725",
            "9e0c3a02b1a4a9909a4d4d6a338e60e8026166a0b356c6592d2b2d65020fc057",
            "54a8559d7d4cb4b0be7a3526297c679b02fc6f8a840f2d443a707a82b11ffe81",
            "f0fae609993dcf7ad16f724371363c384ab576859855811ebab7f2a4efe909dc",
            "d49bb686d29797342c443599c25dba6b77c9e436b988eb38415b7da81d301503",
            "4d3355e3f48bc04ce01003c2d6ed8930ee7ca3979d56c6e6301a7656300b155b",
            "a273dc6eb6180830283a419b187ab9b7c2f2af1a4ef846a8d435d5bba4d38020",
            "b12c54b074f82fe662a168a97423189db447cb50f01ad4abbf6ef7c2d25ef4a5",
            "2bbaad8a3df5671d32aebff5d2a423d689924ad904e47c3dd404e6ab0b405582",
            "da3c3f72163c54b25aa06920e15d348559071bf246623f48f6c64cb7cd9c2e9f",
            "9492bebd208f5a21202440730894b68ed7675aa1266df175b696a9584aca0724",
            "94dfab416be19b1c6367779866849035bf1d0eae693640f7d31f3907fbfb3710",
            "07bdcf47efd06dd3932bdcbce9eddc083291574f16446d1096f94400a036ff79",
            "8687207139671880708188c593b900c6578f88b973405d9c9425d550d0f2cafa",
    };
    static final String[] ROSENBROCK_9 = {
            "bf17f053825f63dcb8ce624be5ea3310b61ae8bc9ddd59b93820f6189a614007",
            "21f78b15786ccf2ad85a236a9c332b3dadcf665d3a55b9a489917b15ae87aaeb",
            "6cdb23fad2ef1954b132966022a8b8c7889a605b943014aa0bd43b19e9d98cb9",
            "cfac65fcf2a799462e431bc5899fa64abb09b7c477450b18d489596b0e0d6876",
            "bf82c86db11a2f1e9141fa9a152984f0c4aa671897262f7e7444cbdc30522d28",
            "cf74596d6723d8363c38416d802161273d4e94695839455ffe7ac9cfb80d5a4d",
            "2aae3a70f2e6a93402621c263331dabc0dc23e3a734fe1b8e28f0845fee44fc8",
            "35e9f67edecdc6910b14a5fa57bc981a66b20c456a16a6d5f6d933dac6243614",
            "3b895cb9df83497b98ce1d4a09fc4bc9b9f5ff4ef2724455d1ce7838258e88ca",
            "c96141ba6e2858dd3d5a0a4e191c5d8195caf44a26442ad24d4504d526667478",
            "ab87b0e5854ac7a4c3428fce6cb01e36bc22e1b7ba460fcd2872e7f070e3ff33",
            "8575401537fbc8dbb987a1b9196a23d81cee6bea3bfb833440699afda0ad2a6b",
            "6c2a4c9be16b41ad415b8bb960a8488dba566167588235544562a5d3c643a2dd",
            "5c4a7ac0636ba5b71e4d7b9caf281f7d76740eaa4acdc10c1062636ed20c9937",
            "07dde5f4d9d1cb629298fb5d02f060a0b378eef5078c69a643ff80190dd5aa41",
            "013dbc32871694e112f7cce8b88f7249533d2d000a078ed063d2f7b3db9f4721",
            "243cbb2840a066f5b35020c5d0199b2ee38bdf493713c5fc89af92e25a54d68a",
            "092642265f159fefb2b0597c19ebde0310694d43e6fd8bf3e7024f3a7f8838d5",
            "ba8f510b1b765178eac94a36b9556cb28e87a262cf43f510b753c8ec547dd9b4",
            "098f780389f029ef152876402fbe5225fe06055e9a0177480908a48aa670c422",
            "2a8d20e2d02ccfa8e6508f24c0ade048d94dcb26950d172ab55ea1685835e7a3",
            "db116e585467a7845401ca83e75dd7339802a143665ab83f73c65adfb702bc98",
            "60ec61eb19e416d57a080a658a607546730407a9e55c2c7e49daa2b8bb2250b6",
            "e83ddce440111d204638c718d834b7ad69ed458241c9b5ae3faf7c23f4f270f2",
            "2bee79a09e9b9dcbb9901ca1c823fa3fce8a7a817009c53950a1e546f4723741",
            "68a1dd416636e1db4386d29d78463ca42c4838ec4f1d571f5dba40f80e8e73aa",
            "49e001daf2db9e0c4c30d39c40ff5ffb10943424e2be4a202e42d4111549c190",
            "c00c6bb532f38c9c73ad0f29e32a77bb41d507fed24896584ec0167c9395dc5d",
            "ac85efcb889b8a3125e8c1dbfcd2fa9b6688098f17bccee394b24e24b0e76bdc",
            "f88de8a213f79b86865e63f197d6a87f7045601f7dbe1d813d528aa6ee55b013",
            "1a0ce615f5df0a6b0c82a209972e8ce33e9618a9e61d7242d635daa6ca169aec",
            "3e36d98d9fd1862cdbb2265596cbed8e9ae4aaf6c3a2ae547e299f20f907e042",
            "eb5ae9bace4b9e6ca08f53267fa9a10690218a998320334fe2c3064a8b823701",
            "0d535bc1e26f69a4f4c97a358527f5207a825c3f9b3a3297e3cb9b123216f46b",
            "86e9295678dd3f22e323155f50ca42d62f5b0c660625add17e28caed98e9c6cf",
            "a163c14c73330c75519a5806f52ff3af3a76d04b912e58cc6771643f643897b2",
            "1081b1811f0db6e852ffc8d83d3144b79f70929a4a98d37dd427abed2a238985",
            "82f5e911c02daaee32984af2a3f14f72fc398476b2eb0196db64684af1bb9255",
            "f0f39b666ef9016d23d6e18ae2907a9121f40056848511376d78dbd7d1da2084",
            "916371f06c28eabacf2cb1ee4c0a219fa9cd1463778fcbf9c3fe723cb77a2484",
            "44b3959074fdb252bf516d26042b2dd37a98790a5636c1da8511f3e8b9887589",
            "73f6fea554406448fc609884a5159ba522ac90c72e95f27e391c1301aad2626b",
            "50a98fac4c6599297cdea0a84f6cd76cf90bd24000a89e1610b99fa0498dcf6c",
            "445503300a663b6d8684ee6a7785f1a6918768b5188cff997c7bbfffa2168353",
            "c8b6e7c98b024f1511769210a2b6adccc2d63982660e6fba7685d54eba268022",
            "918dfcc6a27986365e54ee78c0e83036afcfe2af5fd6a9b5cde6cd77287cbcce",
            "1081c930934abef9824e4fe78af0c676e42e35353e09e58c02a9fa0bce1ccc64",
            "760487a86e62b4ac1dc94484cdd9d1fd700fdb1911d7716cfaed381ee7856e43",
            "a2d445c958c87beb69121649fc38acee5df70a4f2d1388961d076afb819a3a8e",
            "604defacf5b2dde0489c727d8a1e4b8681e9eee294a8d68fa44d5be8daa1db14",
            "da1de0b4b4144a00ee04dbe91fabe17bfcbc1ee637fa4c644269c3bc87d54c76",
            "4ee191476d10fa990a5e7334b22c3fec01ffca95ba52fae5c8c7606d3f84c7e4",
            "9d662c50d6f4e821d958ec334f3dcf6bc7b45aa353942d820d44fb58da9c4636",
            "0a5c8f287ca7f80404d65dee46d482a025699eadd5ffb2ca34fec89566cbdc18",
            "deac58ffc555ce2f7707d707ab7b266eaa3c67267e262bcb8f733233b76d439b",
            "c87b9b4c2764454fc596b830ee2c1eb64e319ad63460e9eb0fed0d2b0440746b",
            "7e41c2459ec7ca101e46044e27c30aed3e654e1b9630cdb4e8288ae473558c99",
            "eb85327fd9a336b9c5f0282a1f60aa5548c68a36d396d9189d786cd939a313da",
            "6a0cd8764944f5e19f2142f7f4c3d44a1348347c6802b9af3280fa85078ec308",
            "693b9b0c393984f3ed84b4c8b60ad883972c273c3393684716757f753a8a6623",
            "16882feaa34844cf598a1348afa45d7581ce40c2de7a29e9f3dbfea52f736e8c",
            "dc2d5cd80b6594ecbd9e439a42a3d3c158854ec4b0b2df5e7cc0997ed37ee9d7",
    };
    static final String[] ELLIPSOID_20 = {
            "e83dd02935f29add8325e06eeaa04e6454e56d13081184d68bf852ed3a0762a1",
            "02afdd28612d5d5df8dbef65519da76bacbfcb6d09c82ed9e1edf167d7f21efe",
            "14cc06b55b7ce7d780019ff7a1f2b402f17d99f35e643db4dfdc9e7894b592a7",
            "898f7e8cc95a1beba5154c32d4a267a9268d6d18181e852a02654a188b5ab66e",
            "7d2f3fad3d822b389556d8242151bec0248c45a98fa3fe707ecdc6a82b846fa7",
            "30057196772a41f3d8e5533a80388d955847f9c3c5e37c40cf8b2c815dfdafe3",
            "de9881a076938039f4d774610ee2051431b9a4949766fcdde9c40ed5e2e1abbe",
            "6fd0004675fbe06097d986a643d0c9ab627666301b24fb4a081931651422ffc4",
            "c105bfef8e622ad8e94b1710e688670eb92c03a9e12e1d50109e014bae85d4ee",
            "6b064967e51856afcbbfb900147df404ceff3bd44ca75d8fd347e826dfa69e6c",
            "fb3425b4cc82e207dc3764ef482a02819221f7acdc3b3a64ac8022ce5e1e8d30",
            "c6ce9114f3bac4b0db939a37d92f70c758f3dcb0e0432137613360a2afa852b0",
            "34b7ceb6f3dd349b6b76969d23312ba98df45cf342f12f4f8907db5897169996",
            "b28226c1dccf875e9922a3a51d9646657f550e4738cbecbaa8c975dba547a19f",
            "652c863582544f42a19922266d83c9f2b4d0561088bb6dd24f5ce4d578c973ed",
            "9b871a139a0bf7f971d6c5b0bd1731f33d08ef7120d53b4052e516c7df5262ac",
            "663552d03659f745388f346c12c55a968b7db5b350a1cca0f2bde189572fcb6f",
            "9a9ad5f646f5cad3f97cb920e13f3dea1230897d2b51a9eb6d8214bca4dcaf0b",
            "a13e0c45e8f03dfe17334911bff3a87ecb34f7ffa81a255e8e06ac997ee08767",
            "aa300b1bd5a26b8aa80b39ff50b8ffbe3de4e3ba2ba90b498c53552ef83d9bd3",
            "bbe6fdfe66e85fc0a866ecf34bfd66167b9db82a58eb1d858f948b12490a100b",
            "8aaae79965a4c3160accf2af780e370b51f10161cc97337788f39397ea08c910",
            "7c0e70fe6aa805a0174393c4a7cca8677d8d5632697e38c3853374a12c2568fa",
            "c102bd913a0d5be4feed4b3ed0fa298bf031ae157839d7e6175a0ecd8a509263",
            "ac88cc582dd1854c75ba612edbb7d696c10e93138fa3a278e67d70fc86d43688",
            "dbf27d96cdc6071767a10c9662b99a5e809b8c0c5b936bc0d30f57adbd2072c6",
            "776dfab9f8c7ef9eae15e2e34d12fc6498984509cd3901968fb1587aca4121cb",
            "2e5afbfd26d4d76fb1e9b6fddf41712e42e2015be0b2e1cb14babdd71c169e2f",
            "b13419bdb7dd418f22355de16fa7ae649ae942d4cd9b9ec1e2654cca51697509",
            "40477d6f050c81e15d905d5f4f82baf24a7f923d491ff35b677a459b7f4461a7",
            "76122d87e7f9143f48a74d47ef7f24589830e23d6e7e5be75681429b395e62da",
            "f1f70f8ab127602c9be88ce5218bde5fefed5500aaffdff3e2eac6e83166c075",
            "0103848a5faa6b2892ecf480c316e08c9b1db96a9823b6305422fe6b93316c5a",
            "526b96e3d108d84c8bbc169bcb17c1bee39a402a7bafb16d193fab7772b12f76",
            "4d7b0f0b7be304c9c1ee0eee8aa0abc1697f446a5db99d998e4aff38f600cbc4",
            "b84cb6401bd48dfd60588c75dc28164e7a63f4d8480b58d5b9f96bc07d29e506",
            "c22dc50fb86a80672f8045fc34ed0ee9e01dec794557798aa8e0f778f3d9211e",
            "d998102809d13484a03d62043ac11a3f99d41f34e9f469550c596ea57d0f2099",
            "a8649b65d330ce6a1142d463a6391931aae7bc8123fac7d6221f070b537c7391",
            "cfe1e01f1dee33f49f1cefcb604347129de405451a8e066e15c21b9ceb9a706e",
            "d970566c9f95060b45e4b4c88f29b9d6bdd29761508fd58ba378e82465e227e3",
            "09cd27eddbc07d236f9316b5b9de30aee002cb09771cb0ffdd40207d22bb9ed2",
            "3c4f78cf3b433a3e496b2766b4e351b3ff7fcfee962af86db0f06d9ce1fa8fe7",
            "53f8164c01c30eabd36bc8db9205ee6c2e0eb9fa3613adf02361c79efaba3849",
            "1c7e18d88bc804c1efcfde0b30274698b114cd100ba970827962343e03f909e9",
            "0a38f69fd8b08b12641e05059d71d9c562a7b4f621a778a31925f8b12bf8985a",
            "0491a51bbf2b91f321506d83181787fd780e1a0e12f15ee66a73459beefe2398",
            "e3cab0cd2742d5fe7d520b88d6a753c1dee3c64a063a2b5d82f8cc1bce022a5f",
            "00763ffa73f7cd998f7cbae56eb9dc4e5b47d2c2964b5acfed3b6aa0b3fd5e7b",
            "2566ed7df09b0362354c458689f1a9b3731ea35feee9db648679f3ebc0acd271",
            "f89ade8e23fb4105abedb05563a75d821c0299eb3d0f6328d1ecb85a96ad338a",
            "5651d91682e206cfbb92e2c3f9044ca12b9e285a1183f305798448ddd51c7714",
            "ad2d9d40ead9a18cbba155deacc42baaa0fa1a3a5c846cbe6d6a3b12993ca81d",
            "a547da292f70d9cbd7a97c7134cb45f587106b435b4d0af37b45badafd7eace5",
            "ea054ffef90cfe16225c11bd82cb583c7451d06f0e83a1c670a8e20497b6982d",
            "1750e43a33005a9d0ba9219524e42ca75ba628709efd639057f1ca556c375969",
            "63cc5036d9bd130bac968ab798cbe02ccca4ef4cd3d033f45fa666240d1f2961",
            "4494c3090bfaf87ce7d76123b956b7c38da0f27197e51bd906fa237fdc0de856",
            "9f51a6d7aab70095afe0c135c9c8e573d144597581ef68284cc288fe6ec9de0e",
            "326e5b84ce2fb12e7477cd2ab07e2bcd3d0dcdf07ebd31b8139fb6062685aecc",
            "81ec13f024a4c8f948f9ea628f1952586ae052dc369ed08424680e2fddc23c76",
            "d8514d0fc6a292fc56649982b9045c6c8cf47f3dd1eaff347e284c5dd36105a7",
    };
}
